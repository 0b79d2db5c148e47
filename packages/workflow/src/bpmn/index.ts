export { flowToBpmnXml } from './export';
export { bpmnXmlToFlow } from './import';
export { TESSERA_NS, TESSERA_PREFIX, EXPRESSION_LANGUAGE, tesseraModdleDescriptor } from './tessera-moddle';
