import { ProblemError } from '@tessera/metadata';
import type { CompileContext } from './context';
import type { KindPlan } from './compile-report';

export function compileTimeseries(_ctx: CompileContext): KindPlan {
  throw new ProblemError('bad_request', 'not yet', []);
}
