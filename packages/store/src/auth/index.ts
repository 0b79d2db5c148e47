// Workspaces, users, sessions and API tokens. Password hashing stays in the server:
// the store keeps hashes opaque.
export { WorkspaceRepository, type Workspace } from './workspace-repository';
export { UserRepository, normaliseEmail, type User, type UserCredentials, type NewUser } from './user-repository';
export { TokenRepository, hashToken, type TokenKind, type IssuedToken, type TokenInfo, type TokenIdentity } from './token-repository';
export { LoginLockout, DEFAULT_LOCKOUT, type LockoutPolicy, type FailureOutcome } from './login-lockout';
