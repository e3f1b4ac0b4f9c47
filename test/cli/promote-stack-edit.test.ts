import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { parseStackText, setScalars } from '../../config/stack-edit';
import { ConfigError } from '../../model/errors';

/* The edits `converge promote` makes to a stack file: the values change, nothing else does. */

const PROD = readFileSync(join(__dirname, '..', '..', 'stacks', 'Pulumi.prod.yaml'), 'utf8');
const TAG = ['services', 'app-service', 'image', 'tag'];

describe('setScalars', () => {
  it("changes only the value's bytes in a real stack file: comments, flow lists and quotes stay", () => {
    const out = setScalars(PROD, [
      { path: TAG, value: '1.5.0' },
      { path: ['git', 'revision'], value: 'release-1.5' },
    ]);
    expect(out).toBe(
      PROD.replace('tag: 1.4.2\n', 'tag: 1.5.0\n').replace('revision: v1.5.0', 'revision: release-1.5'),
    );
    // Printing the document whole would have re-spaced these.
    expect(out).toContain("applications: ['*']");
    expect(out).toContain('high: [pagerduty, slack:deploys-prod]');
  });

  it('keeps a trailing comment and the quote style of the old value', () => {
    const text =
      'config:\n  converge:platform:\n    git: { revision: "v1" } # pinned\n    services:\n      a:\n        image:\n          tag: 1.0.0 # the release\n';
    const out = setScalars(text, [
      { path: ['git', 'revision'], value: 'v2' },
      { path: ['services', 'a', 'image', 'tag'], value: '2.0.0' },
    ]);
    expect(out).toBe(text.replace('"v1"', '"v2"').replace('tag: 1.0.0', 'tag: 2.0.0'));
  });

  it('quotes a plain value that would otherwise read as a number', () => {
    const out = setScalars(PROD, [{ path: TAG, value: '1.10' }]);
    expect(out).toBe(PROD.replace('tag: 1.4.2\n', 'tag: "1.10"\n'));
    expect(parseDocument(out).getIn(['config', 'converge:platform', ...TAG])).toBe('1.10');
  });

  it('prints the document whole, with the same data, when the key is not there to splice', () => {
    const out = setScalars(PROD, [
      { path: ['services', 'app-service', 'canary', 'header', 'name'], value: 'x-canary' },
    ]);
    const expected = parseDocument(PROD);
    expected.setIn(
      ['config', 'converge:platform', 'services', 'app-service', 'canary', 'header', 'name'],
      'x-canary',
    );
    expect(parseDocument(out).toJSON()).toEqual(expected.toJSON());
    expect(out).toContain('# Weekend freeze');
  });
});

describe('parseStackText', () => {
  it('accepts the stack file as it is', () => {
    expect(
      parseStackText(PROD, 'prod', 'stacks/Pulumi.prod.yaml').config.services['app-service'].image.tag,
    ).toBe('1.4.2');
  });

  it("fails with the file and the value's line when an edit breaks the schema", () => {
    const text = setScalars(PROD, [{ path: TAG, value: 'not a tag' }]);
    const line = PROD.split('\n').indexOf('          tag: 1.4.2') + 1;
    expect(() => parseStackText(text, 'prod', 'stacks/Pulumi.prod.yaml')).toThrow(ConfigError);
    expect(() => parseStackText(text, 'prod', 'stacks/Pulumi.prod.yaml')).toThrow(
      new RegExp(
        `^stacks/Pulumi\\.prod\\.yaml:${line}: converge:platform\\.services\\.app-service\\.image\\.tag is "not a tag"; it must be an image tag`,
      ),
    );
  });
});
