export { isUserFieldKey, resolveAssignees, USER_SYSTEM_FIELDS, type AssigneeContext } from './resolve';
