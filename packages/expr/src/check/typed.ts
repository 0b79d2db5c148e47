import type { ExprType } from '../types';
import type { Literal } from '../syntax/parse';
import type { FieldSource } from './scope';

/** The syntax tree with every node's type settled by the checker; the SQL compiler walks this. */
export type Typed =
  | { kind: 'literal'; value: Literal; path: string; type: ExprType }
  | { kind: 'array'; items: Typed[]; path: string; type: ExprType }
  | { kind: 'var'; key: string; source: FieldSource; path: string; type: ExprType }
  | { kind: 'op'; op: string; args: Typed[]; path: string; type: ExprType }
  | { kind: 'invalid'; path: string; type: ExprType };

export function isNullLiteral(n: Typed): boolean {
  return n.kind === 'literal' && n.value === null;
}
