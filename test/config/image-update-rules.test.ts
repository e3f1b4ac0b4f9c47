import {
  isSemverRange,
  isTagGlob,
  rangeAdmitsPrereleases,
  tagGlob,
  tagIgnored,
  tagSatisfies,
} from '../../model/image-updates';

/* The pure rules behind an image update policy, as Image Updater applies them. */

describe('tag globs read as Go filepath.Match reads them', () => {
  // Each row was checked against Go's path/filepath.Match (go1.26) once; "ERR" is ErrBadPattern.
  it.each<[string, string[] | 'ERR']>([
    ['*-rc*', ['1.0.7-rc.1']],
    ['1.0.?', ['1.0.6', '1.0.x']],
    ['[^a-c]x', ['dx']],
    ['\\*', ['*']],
    ['v[0-9]*', ['v1.2']],
    ['[\\]]', [']']],
    ['1.[0', 'ERR'],
    ['[]a]', 'ERR'],
    ['a\\', 'ERR'],
    ['[a-]', 'ERR'],
  ])('%s', (pattern, expected) => {
    const tags = ['1.0.7-rc.1', '1.0.6', '1.0.x', 'dx', 'ax', '*', ']', 'a', '-', 'v1.2', 'z'];
    const glob = tagGlob(pattern);
    if (expected === 'ERR') expect(typeof glob).toBe('string');
    else expect(tags.filter((t) => (glob as RegExp).test(t))).toEqual(expected);
  });

  it('refuses a backwards range, which Go accepts but which matches nothing', () => {
    expect(isTagGlob('[z-a]')).toMatch(/runs backwards/);
  });

  it('names the glob that ignores a tag', () => {
    expect(tagIgnored('1.0.7-rc.1', ['*-dev*', '*-rc*'])).toBe('*-rc*');
    expect(tagIgnored('1.0.6', ['*-dev*', '*-rc*'])).toBeUndefined();
  });
});

describe('semver ranges, pre-releases counted as Masterminds/semver counts them', () => {
  it.each<[string, string, boolean]>([
    // The pushes against prod's ~1.0: 1.0.6 only.
    ['1.0.6', '~1.0', true],
    ['1.1.0', '~1.0', false],
    ['2.0.0', '~1.0', false],
    ['1.0.7-rc.1', '~1.0', false],
    // Staging's ^1, stable only.
    ['1.1.0', '^1', true],
    ['2.0.0', '^1', false],
    // Dev's >=0.0.0-0 admits every pre-release (npm's semver alone would not).
    ['1.0.7-rc.1', '>=0.0.0-0', true],
    ['2.0.0', '>=0.0.0-0', true],
    ['v1.2.3', '^1', true],
    ['a1b2c3d', '*', false],
  ])('%s in %s: %s', (tag, range, expected) => {
    expect(tagSatisfies(tag, range)).toBe(expected);
  });

  it.each([
    ['>=1.0.0-0 <1.1.0', true],
    ['~1.0', false],
    ['1.0.0 - 2.0.0', false],
  ])('%s admits pre-releases: %s', (range, expected) => {
    expect(rangeAdmitsPrereleases(range)).toBe(expected);
  });

  it.each(['~1.0', '^1', '>=1.2.0 <2.0.0', '1.2.x', '*', '>=0.0.0-0', '1.0.0 - 2.0.0', '^1 || ^2'])(
    'accepts %s',
    (range) => expect(isSemverRange(range)).toBeUndefined(),
  );
  it.each(['', 'one', '>=1.0, <2.0', '~1.0-0x.'])('refuses %j', (range) =>
    expect(isSemverRange(range)).toBeDefined(),
  );
});
