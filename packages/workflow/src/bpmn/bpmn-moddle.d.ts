/** bpmn-moddle ships types for its elements only; this declares the few entry points we use. */
declare module 'bpmn-moddle' {
  /** a moddle element: `$type` such as `bpmn:UserTask`, properties by name, unknown attributes in `$attrs` */
  export interface ModdleElement {
    $type: string;
    $attrs?: Record<string, string>;
    $parent?: ModdleElement;
    id?: string;
    // moddle elements are dynamic objects whose properties depend on `$type`
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    [property: string]: any;
    get(name: string): unknown;
    set(name: string, value: unknown): void;
  }

  export interface FromXmlResult {
    rootElement: ModdleElement;
    warnings: { message: string; element?: ModdleElement; property?: string; value?: unknown }[];
    elementsById: Record<string, ModdleElement>;
  }

  export class BpmnModdle {
    constructor(packages?: Record<string, unknown>, options?: Record<string, unknown>);
    create(type: string, attrs?: Record<string, unknown>): ModdleElement;
    fromXML(xml: string, options?: Record<string, unknown>): Promise<FromXmlResult>;
    toXML(element: ModdleElement, options?: { format?: boolean; preamble?: boolean }): Promise<{ xml: string }>;
  }
}
