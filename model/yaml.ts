import { Document, visit } from 'yaml';

/**
 * YAML text of a value: how every manifest, and every YAML setting embedded in a ConfigMap, is
 * written. YAML 1.1 quoting keeps "on", "yes" and "y" strings for Go's YAML readers (Argo CD,
 * Kubernetes); single quotes; no line folding; no anchors, so each object reads on its own. The
 * same input always gives the same bytes.
 */
export function toYaml(value: unknown): string {
  const doc = new Document(value, { version: '1.1', aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(_, node) {
      // Plain is legal for "-n" or ":x", but a reader's eye takes them for syntax: quote them.
      if (typeof node.value === 'string' && /^[-?:]/.test(node.value) && !node.value.includes('\n'))
        node.type = 'QUOTE_SINGLE';
    },
  });
  return doc.toString({ lineWidth: 0, singleQuote: true });
}
