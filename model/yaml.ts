import { Document, Scalar, visit } from 'yaml';

/** Plain is legal for "-n" or ":x", but a reader's eye takes them for syntax: such strings are quoted. */
const LOOKS_LIKE_SYNTAX = /^[-?:]/;
const needsQuotes = (s: string) => LOOKS_LIKE_SYNTAX.test(s) && !s.includes('\n');

/**
 * YAML text of a value: how every manifest, and every YAML setting embedded in a ConfigMap, is
 * written. YAML 1.1 quoting keeps "on", "yes" and "y" strings for Go's YAML readers (Argo CD,
 * Kubernetes); single quotes; no line folding; no anchors, so each object reads on its own. The
 * same input always gives the same bytes.
 */
export function toYaml(value: unknown): string {
  // Values are quoted as their nodes are made (one pass, not a second walk of the tree); a key
  // that needs quotes, which objects hardly ever have, takes the walk over every scalar.
  let keyNeedsQuotes = false;
  const doc = new Document(
    value,
    (key: string, v: unknown) => {
      if (!keyNeedsQuotes && needsQuotes(key)) keyNeedsQuotes = true;
      if (typeof v !== 'string' || !needsQuotes(v)) return v;
      const quoted = new Scalar(v);
      quoted.type = 'QUOTE_SINGLE';
      return quoted;
    },
    { version: '1.1', aliasDuplicateObjects: false },
  );
  if (keyNeedsQuotes)
    visit(doc, {
      Scalar(_, node) {
        if (typeof node.value === 'string' && needsQuotes(node.value)) node.type = 'QUOTE_SINGLE';
      },
    });
  // No directives: a document made from a value has none to print, and looking costs a tree walk.
  return doc.toString({ lineWidth: 0, singleQuote: true, directives: false });
}
