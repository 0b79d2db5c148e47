export { OBJECT_ACTIONS, appRoles, fieldAccess, loadAccessPolicy, loadCallerPolicy, unrestrictedPolicy, type AccessPolicy, type ObjectAction, type Viewer, type ViewerReach } from './policy';
export { checkRoles } from './check-roles';
export { roleDefSchema, rolesSectionSchema, type FieldAccess, type ObjectGrant, type RecordScope, type RoleDef } from './role-model';
export { OrgRepository, type Team, type TeamInput } from './org-repository';
export { ShareRepository, type RecordShare, type ShareInput, type ShareLevel } from './share-repository';
