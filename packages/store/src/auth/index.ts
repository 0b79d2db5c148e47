// Workspaces, users, sessions and API tokens (owned by the server/auth work).
export {};
