import { ProblemError } from '@tessera/metadata';
import { UserRepository, WorkspaceRepository, normaliseEmail, type Database } from '@tessera/store';
import { generatePassword, hashPassword } from '../auth/passwords';
import { MIN_PASSWORD_LENGTH, passwordProblems } from '../auth/password-policy';

export interface BootstrapOptions {
  adminEmail?: string;
  adminPassword?: string;
  workspaceName?: string;
  /** where the one-time generated password is shown; the console by default */
  print?: (line: string) => void;
}

export interface BootstrapResult {
  /** false when the installation already had a workspace: nothing was changed */
  created: boolean;
  workspaceId: string;
  adminEmail: string | null;
  /** only when generated, and only on the start that created it */
  generatedPassword?: string;
}

export const DEFAULT_ADMIN_EMAIL = 'admin@tessera.local';

/**
 * First start: one workspace and its admin. Later starts find the workspace and change
 * nothing, so a password given on the first start is not silently reset by a later one.
 * An advisory lock makes concurrent first starts of several servers create one admin.
 */
export async function bootstrap(database: Database, options: BootstrapOptions = {}): Promise<BootstrapResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const adminEmail = normaliseEmail(options.adminEmail ?? DEFAULT_ADMIN_EMAIL);
  if (options.adminPassword !== undefined) {
    const problems = passwordProblems(options.adminPassword, adminEmail, 'TESSERA_ADMIN_PASSWORD');
    if (problems.length > 0) {
      const detail = problems.some((p) => p.code === 'too_short') ? `The admin password must have at least ${MIN_PASSWORD_LENGTH} characters` : 'The admin password does not meet the password policy';
      throw new ProblemError('unprocessable', detail, problems);
    }
  }
  const password = options.adminPassword ?? generatePassword();
  const passwordHash = await hashPassword(password);

  const result = await database.db.transaction().execute(async (trx) => {
    await trx.selectNoFrom((eb) => eb.fn('pg_advisory_xact_lock', [eb.val(BOOTSTRAP_LOCK)]).as('locked')).execute();
    const workspaces = new WorkspaceRepository(trx);
    const existing = await workspaces.list();
    if (existing[0]) return { created: false, workspaceId: existing[0].id, adminEmail: null } satisfies BootstrapResult;
    const workspace = await workspaces.create(options.workspaceName ?? 'Default');
    await new UserRepository(trx).create(workspace.id, { email: adminEmail, name: 'Admin', passwordHash, isAdmin: true });
    return { created: true, workspaceId: workspace.id, adminEmail } satisfies BootstrapResult;
  });

  if (!result.created || options.adminPassword !== undefined) return result;
  print(`Created the admin ${adminEmail} with the password: ${password}`);
  print('This password is shown only once: keep it safe (to choose one yourself, set TESSERA_ADMIN_PASSWORD before the first start).');
  return { ...result, generatedPassword: password };
}

/** an arbitrary constant naming "the bootstrap" among advisory locks */
const BOOTSTRAP_LOCK = 7_354_001;
