import { cli, expectFailure } from './error-path-helpers';

/* `converge watch --repo-url <url> --revision <rev>`: what the in-cluster Deployment passes instead of a stack file. */

const watch = (...args: string[]) => cli('watch', '--env', 'staging', '--metrics-port', '-1', ...args);

describe('converge watch --repo-url / --revision', () => {
  it('fails when --revision is given without --repo-url, saying to pass both', async () => {
    expectFailure(
      await watch('--revision', 'main'),
      '--revision is given without --repo-url; pass both',
      "or neither to use the stack file's git.repoURL and git.revision",
    );
  });

  it('fails when --repo-url is given without --revision', async () => {
    expectFailure(
      await watch('--repo-url', 'https://example.com/r.git'),
      '--repo-url is given without --revision; pass both',
    );
  });

  it('fails when --repo-url is not a Git URL, quoting it and what is allowed', async () => {
    expectFailure(
      await watch('--repo-url', 'example.com/r', '--revision', 'main'),
      '--repo-url is "example.com/r"; it must be a Git URL',
      'use the URL you would `git clone`',
    );
  });

  it('fails when --repo-url carries credentials, never showing them', async () => {
    const r = await watch('--repo-url', 'https://bot:s3cr3t-pw@example.com/r.git', '--revision', 'main');
    const line = expectFailure(r, '--repo-url is "https://', 'it carries credentials');
    expect(line).not.toContain('s3cr3t-pw');
    expect(r.stdout).not.toContain('s3cr3t-pw');
  });

  it('fails when --revision is not a branch, tag or commit', async () => {
    expectFailure(
      await watch('--repo-url', 'https://example.com/r.git', '--revision', 'a..b'),
      '--revision is "a..b";',
      'it must be a Git branch, tag or commit',
    );
  });

  it('fails when --repo-url and --charts-dir are both given, saying to pass one', async () => {
    expectFailure(
      await watch('--repo-url', 'https://example.com/r.git', '--revision', 'main', '--charts-dir', 'charts'),
      '--repo-url and --charts-dir are both given',
      'pass one',
    );
  });
});
