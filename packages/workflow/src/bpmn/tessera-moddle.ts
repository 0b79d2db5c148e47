/**
 * The moddle descriptor of the Tessera BPMN extension namespace. Standard BPMN carries the
 * graph (tasks, gateways, events, sequence flows, conditions, timers); these elements, inside
 * `bpmn:extensionElements`, carry what BPMN has no element for: who a user task goes to and
 * how it is decided, what a service task does, how a flow starts, an end's result. Other
 * modellers keep them as unknown extension elements and show the standard parts.
 *
 * Expressions are JSON text in an element body. Scalars are attributes; lists of keys are
 * space-separated attributes.
 */
export const TESSERA_NS = 'http://tessera.dev/schema/bpmn';
export const TESSERA_PREFIX = 'tessera';
/** the `language` of a bpmn:conditionExpression / timeDate whose body is a Tessera expression as JSON */
export const EXPRESSION_LANGUAGE = 'application/vnd.tessera.expression+json';

const attr = (name: string, type = 'String') => ({ name, isAttr: true, type });
const many = (name: string, type: string) => ({ name, type, isMany: true });
const text = (name: string) => ({ name, superClass: ['Element'], properties: [attr('en'), attr('zh')] });

export const tesseraModdleDescriptor = {
  name: 'Tessera',
  prefix: TESSERA_PREFIX,
  uri: TESSERA_NS,
  xml: { tagAlias: 'lowerCase' },
  associations: [],
  types: [
    // localized texts: a BPMN `name` is one string, ours one per UI language
    text('Name'),
    text('Label'),
    text('Description'),
    { name: 'Expression', superClass: ['Element'], properties: [attr('key'), { name: 'text', isBody: true, type: 'String' }] },
    { name: 'Value', superClass: ['Element'], properties: [attr('name'), { name: 'text', isBody: true, type: 'String' }] },
    { name: 'Header', superClass: ['Element'], properties: [attr('name'), { name: 'text', isBody: true, type: 'String' }] },
    { name: 'Variable', superClass: ['Element'], properties: [attr('name'), attr('type')] },
    {
      name: 'Flow',
      superClass: ['Element'],
      properties: [attr('object'), attr('disabled', 'Boolean'), { name: 'description', type: 'Description' }, many('variables', 'Variable')],
    },
    {
      name: 'Trigger',
      superClass: ['Element'],
      properties: [attr('type'), attr('fields'), attr('timezone'), { name: 'label', type: 'Label' }, many('expressions', 'Expression')],
    },
    {
      name: 'Assignee',
      superClass: ['Element'],
      properties: [attr('type'), attr('userId'), attr('role'), attr('field'), many('expressions', 'Expression')],
    },
    {
      name: 'UserTask',
      superClass: ['Element'],
      properties: [
        attr('kind'),
        attr('mode'),
        attr('actions'),
        attr('editableFields'),
        attr('dueDuration'),
        many('assignees', 'Assignee'),
        many('expressions', 'Expression'),
      ],
    },
    {
      name: 'Action',
      superClass: ['Element'],
      properties: [
        attr('type'),
        attr('object'),
        attr('sort'),
        attr('limit', 'Integer'),
        attr('resultVariable'),
        attr('method'),
        many('expressions', 'Expression'),
        many('values', 'Value'),
        many('headers', 'Header'),
        many('recipients', 'Assignee'),
      ],
    },
    { name: 'Retry', superClass: ['Element'], properties: [attr('maxAttempts', 'Integer'), attr('initialDelay')] },
    { name: 'Result', superClass: ['Element'], properties: [attr('value')] },
    { name: 'Outcome', superClass: ['Element'], properties: [attr('value')] },
  ],
} as const;
