export { buildServer, DEFAULT_BODY_LIMIT, type ServerOptions } from './server';
export { bootstrap, DEFAULT_ADMIN_EMAIL, type BootstrapOptions, type BootstrapResult } from './bootstrap/bootstrap';
export { hashPassword, verifyPassword, generatePassword } from './auth/passwords';
export { assertPasswordPolicy, passwordProblems, MIN_PASSWORD_LENGTH } from './auth/password-policy';
export { appOpenApi } from './openapi/app-openapi';
export { problemDocument, toProblem, type ProblemDocument } from './errors/problem';
export { createWorkflowEngine, startWorkers, type RunningWorkers, type WorkerSettings } from './workflow/engine';
