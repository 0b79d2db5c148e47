import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import { schemaFieldErrors, type AppDocument, type FieldError } from '@tessera/metadata';
import { flowsSectionSchema } from '../model/schema';
import type { FlowDef } from '../model/types';
import { FlowCheck } from './context';
import { checkGraph } from './graph';
import { checkReferences } from './references';

const validateSection = new Ajv2020({ allErrors: true, strict: true, discriminator: true }).compile(flowsSectionSchema);

/**
 * Checks the `flows` section of an app document before it is saved or published: its shape
 * (the JSON Schema of FlowDef), then per flow the graph (one start, reachable nodes, every
 * node reaching an end, gateway defaults, fork/join pairs) and what the nodes refer to
 * (fields, objects, roles, variables, expressions, durations, cron). Every error's `field` is
 * its path, `flows/<i>/nodes/<j>/...`, and its message names the node id.
 */
export function checkFlows(doc: AppDocument): FieldError[] {
  const flows = doc.flows;
  if (flows === undefined) return [];
  if (!validateSection(flows)) return shapeErrors(validateSection.errors, flows);
  const errors: FieldError[] = [];
  const keys = new Set<string>();
  (flows as FlowDef[]).forEach((flow, i) => {
    if (keys.has(flow.key)) errors.push({ field: `flows/${i}/key`, code: 'duplicate', message: `Flow "${flow.key}": the key is used by another flow` });
    keys.add(flow.key);
    errors.push(...checkFlow(doc, flow, `flows/${i}`));
  });
  return errors;
}

/** The semantic checks of one structurally valid flow; `at` is its path, e.g. `flows/0`. */
export function checkFlow(doc: AppDocument, flow: FlowDef, at = 'flows/0'): FieldError[] {
  const c = new FlowCheck(doc, flow, at);
  checkGraph(c);
  checkReferences(c);
  return c.errors;
}

function shapeErrors(errors: ErrorObject[] | null | undefined, flows: unknown): FieldError[] {
  return schemaFieldErrors(errors, 'flows').map((e) => ({ ...e, message: `${elementLabel(flows, e.field.split('/').slice(1))}${e.message}` }));
}

/** `Node "review": ` for a path inside a node (or edge), so shape errors name the element too */
function elementLabel(flows: unknown, parts: string[]): string {
  const [i, section, j] = parts;
  if (i === undefined || (section !== 'nodes' && section !== 'edges') || j === undefined) return '';
  const element = (flows as Record<string, Record<string, Record<string, unknown>[]>>)[i]?.[section]?.[Number(j)];
  const id = element && typeof element === 'object' ? element.id : undefined;
  return typeof id === 'string' ? `${section === 'nodes' ? 'Node' : 'Edge'} "${id}": ` : '';
}
