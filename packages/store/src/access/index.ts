export { OBJECT_ACTIONS, loadAccessPolicy, unrestrictedPolicy, type AccessPolicy, type ObjectAction, type Viewer } from './policy';
export { checkRoles } from './check-roles';
