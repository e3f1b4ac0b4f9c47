import fc from 'fast-check';
import { Document, visit } from 'yaml';
import { toYaml } from '../../model/yaml';

/*
 * The YAML writer quotes as it builds the document instead of walking it afterwards, and skips
 * the directives: the same bytes as the straightforward two-pass writer, for any JSON value.
 */

/** The writer as it was: build, then quote every scalar that looks like syntax. */
function twoPass(value: unknown): string {
  const doc = new Document(value, { version: '1.1', aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === 'string' && /^[-?:]/.test(node.value) && !node.value.includes('\n'))
        node.type = 'QUOTE_SINGLE';
    },
  });
  return doc.toString({ lineWidth: 0, singleQuote: true });
}

// Strings a YAML reader may take for syntax or for another type, and arbitrary ones.
const text = fc.oneof(
  fc.string(),
  fc.constantFrom('-n', '- a', ':x', '?q', '-', 'on', 'yes', 'y', '1.0', '0x1F', 'null', '~', "it's", 'a: b'),
  fc.constantFrom('-', ':', '?', '#', '!', '&', '*', 'a').chain((c) => fc.string().map((s) => c + s)),
  fc.string().map((s) => `${s}\n-x`),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(text, tie('value'), { maxKeys: 4 }),
  ),
}));

describe('toYaml', () => {
  it('writes the same bytes as the two-pass writer, for any JSON value', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(toYaml(v)).toBe(twoPass(v));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    [
      'a value that looks like syntax',
      { args: ['-n', ':x', '?q', 'plain'] },
      "args:\n  - '-n'\n  - ':x'\n  - '?q'\n  - plain\n",
    ],
    ['a key that looks like syntax', { '-n': 'x', ':k': ['-v'] }, "'-n': x\n':k':\n  - '-v'\n"],
    ['a multi-line string', { s: '-a\n-b' }, 's: |-\n  -a\n  -b\n'],
  ])('quotes %s as the two-pass writer does', (_, input, expected) => {
    expect(toYaml(input)).toBe(expected);
    expect(twoPass(input)).toBe(expected);
  });
});
