import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * One configured ajv for the package. `allErrors` so a form can show every problem at
 * once; union types because nullable record fields are `type: [T, 'null']`.
 */
export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true, strict: true });
  addFormats(ajv);
  return ajv;
}

let shared: Ajv2020 | undefined;

export function sharedAjv(): Ajv2020 {
  shared ??= createAjv();
  return shared;
}
