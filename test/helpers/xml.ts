// Well-formedness of a small XML file (metadata.xml) without an XML library: declaration, DOCTYPE,
// comments, elements with quoted attributes, text with only the predefined or numeric entities.
// Returns each element with its parent; throws naming the line on the first malformed construct.

export interface XmlElement {
  name: string;
  parent: string | undefined;
  text: string;
}

const NAME = '[A-Za-z_][A-Za-z0-9_.:-]*';
const ATTRS = `(?:\\s+${NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))*\\s*`;
const TOKENS: [RegExp, 'skip' | 'open' | 'close' | 'empty'][] = [
  [/^<\?xml[^?]*\?>/, 'skip'],
  [/^<!DOCTYPE[^>[]*>/, 'skip'],
  [/^<!--(?:(?!--)[\s\S])*-->/, 'skip'],
  [new RegExp(`^<(${NAME})${ATTRS}/>`), 'empty'],
  [new RegExp(`^<(${NAME})${ATTRS}>`), 'open'],
  [new RegExp(`^</(${NAME})\\s*>`), 'close'],
];
const TEXT = /^(?:[^<&]|&(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)+/;

export function xmlElements(xml: string): XmlElement[] {
  const out: XmlElement[] = [];
  const stack: XmlElement[] = [];
  let rest = xml;
  const line = () => xml.slice(0, xml.length - rest.length).split('\n').length;
  while (rest.length > 0) {
    const text = TEXT.exec(rest);
    if (text) {
      if (stack.length === 0 && text[0].trim() !== '') throw new Error(`line ${line()}: text outside the root`);
      const top = stack[stack.length - 1];
      if (top) top.text += text[0];
      rest = rest.slice(text[0].length);
      continue;
    }
    const hit = TOKENS.map(([re, kind]) => [re.exec(rest), kind] as const).find(([m]) => m);
    if (!hit) throw new Error(`line ${line()}: not well-formed: ${rest.slice(0, 40).split('\n')[0]}`);
    const [m, kind] = hit as [RegExpExecArray, string];
    if (kind === 'open' || kind === 'empty') {
      const name = m[1] ?? '';
      if (stack.length === 0 && out.length > 0) throw new Error(`line ${line()}: a second root element <${name}>`);
      const el: XmlElement = { name, parent: stack[stack.length - 1]?.name, text: '' };
      out.push(el);
      if (kind === 'open') stack.push(el);
    } else if (kind === 'close') {
      const open = stack.pop();
      if (open?.name !== m[1]) throw new Error(`line ${line()}: </${m[1]}> closes <${open?.name ?? 'nothing'}>`);
    }
    rest = rest.slice(m[0].length);
  }
  const unclosed = stack.pop();
  if (unclosed) throw new Error(`<${unclosed.name}> is never closed`);
  if (out.length === 0) throw new Error('no root element');
  return out;
}
