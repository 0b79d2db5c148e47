import { BpmnModdle, type ModdleElement } from 'bpmn-moddle';
import type { LocalizedText } from '@tessera/metadata';
import { TESSERA_PREFIX, tesseraModdleDescriptor } from './tessera-moddle';

export type { ModdleElement };

let shared: BpmnModdle | undefined;

/** a moddle that knows BPMN 2.0 and the Tessera extension namespace; built once, as its type registry is costly and it keeps no state between documents */
export function tesseraModdle(): BpmnModdle {
  shared ??= new BpmnModdle({ [TESSERA_PREFIX]: tesseraModdleDescriptor });
  return shared;
}

/** `bpmn:SubProcess` -> `bpmn:subProcess`, the element name as it appears in the XML */
export function tagOf(type: string): string {
  const [prefix, local] = type.includes(':') ? type.split(':') : ['', type];
  const tag = local!.charAt(0).toLowerCase() + local!.slice(1);
  return prefix ? `${prefix}:${tag}` : tag;
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

/** the one string a BPMN `name` attribute holds: Chinese first (the product's first market), else English */
export function displayText(text: LocalizedText | undefined): string | undefined {
  return text?.zh ?? text?.en;
}

/** a plain BPMN name as a localized text: Chinese when it has Chinese characters, else English */
export function inferText(name: string): LocalizedText {
  return CJK.test(name) ? { zh: name } : { en: name };
}
