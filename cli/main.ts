#!/usr/bin/env node
// `converge`: synth, validation and drift reports, thin over the library.
// Commands load their modules lazily, so `--help` and start-up stay fast.
import { Command, InvalidArgumentError, Option } from 'commander';
import { APPROVALS_PORT, ENVIRONMENTS, METRICS_PORT } from '../model/constants';
import { EXIT } from '../model/errors';
import { isHostOrAddress } from '../model/validators';
import { failureReport } from './failure';

function envOption() {
  return new Option('-e, --env <env>', `environment: ${ENVIRONMENTS.join(', ')}`).makeOptionMandatory();
}

// Digits only: Number() would take "" and " " as 0, and "0x50" or "8e3" as ports.
function port(value: string): number {
  const n = /^-?[0-9]{1,5}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < -1 || n > 65535)
    throw new InvalidArgumentError(
      `it is ${JSON.stringify(value)}; use a whole number (a port 0-65535, -1 for none)`,
    );
  return n;
}

function seconds(value: string): number {
  const n = /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 86400)
    throw new InvalidArgumentError(`it is ${JSON.stringify(value)}; use whole seconds from 1 to 86400`);
  return n;
}

/** A listen address: an IP or a host name, never empty (Node would take "" as every interface). */
function host(value: string): string {
  if (isHostOrAddress(value))
    throw new InvalidArgumentError(
      `it is ${JSON.stringify(value)}; pass an IP address or host name of this machine, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`,
    );
  return value;
}

function stacksDirOption() {
  return new Option(
    '--stacks-dir <dir>',
    "folder of the Pulumi.<env>.yaml files (default: the package's stacks/)",
  );
}

export function buildProgram(): Command {
  const program = new Command('converge')
    .description('Typed GitOps platform: synthesize, validate and watch what Git declares per environment.')
    // main() prints commander's errors itself, as one line with the usage hint.
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError()
    .exitOverride();

  program
    .command('synth')
    .description(
      "write each environment's manifests to manifests/<env>/ for Git (no cluster needed); --check verifies them",
    )
    .addOption(
      new Option(
        '-e, --env <env>',
        `one environment: ${ENVIRONMENTS.join(', ')} (default: every stack file)`,
      ),
    )
    .option('-o, --out <dir>', 'output folder (default: manifests/<env>)')
    .option('--check', 'write nothing; exit 1 listing the files that differ from what the stack files give')
    .addOption(stacksDirOption())
    .action(async (opts) => {
      const { synth } = await import('./commands/synth');
      process.exitCode = synth({
        env: opts.env,
        out: opts.out,
        stacksDir: opts.stacksDir,
        check: opts.check,
      });
    });

  program
    .command('validate')
    .description(
      "check every synthesized object, and what the charts render, against Kubernetes and CRD schemas, and the platform's invariants",
    )
    .addOption(envOption())
    .addOption(new Option('--output <format>', 'table or json').choices(['table', 'json']).default('table'))
    .option(
      '--charts-dir <dir>',
      "render the services' charts from this folder (default: this package's charts/)",
    )
    .addOption(stacksDirOption())
    .action(async (opts) => {
      const { validate } = await import('./commands/validate');
      process.exitCode = validate({
        env: opts.env,
        output: opts.output,
        chartsDir: opts.chartsDir,
        stacksDir: opts.stacksDir,
      });
    });

  program
    .command('drift')
    .description(
      'report desired (Git) against live state: changed fields, severity, what the policy would do',
    )
    .addOption(envOption())
    .addOption(new Option('--output <format>', 'table or json').choices(['table', 'json']).default('table'))
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('--charts-dir <dir>', 'render charts from this folder instead of Git at the configured revision')
    .addOption(stacksDirOption())
    .addHelpText(
      'after',
      '\nExit codes: 0 no drift, 1 low, 3 medium, 4 high (the highest severity found), 2 bad input.',
    )
    .action(async (opts) => {
      const { drift } = await import('./commands/drift');
      process.exitCode = await drift({
        env: opts.env,
        output: opts.output,
        kubeconfig: opts.kubeconfig,
        context: opts.context,
        chartsDir: opts.chartsDir,
        stacksDir: opts.stacksDir,
      });
    });

  program
    .command('status')
    .description(
      'the CI gate: pass when every Argo CD Application of the environment is Synced (to --revision) and Healthy',
    )
    .addOption(envOption())
    .option('--revision <sha>', 'require this commit (7 to 40 hex digits) as the synced revision')
    .option(
      '--wait <duration>',
      'poll until all pass or this time is up, e.g. 90s, 5m, 1m30s (default: check once)',
    )
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .addOption(stacksDirOption())
    .addHelpText(
      'after',
      '\nExit codes: 0 all Synced and Healthy, 1 not (one line per failing Application), 2 bad input.',
    )
    .action(async (opts) => {
      const { status } = await import('./commands/status');
      process.exitCode = await status({
        env: opts.env,
        revision: opts.revision,
        wait: opts.wait,
        kubeconfig: opts.kubeconfig,
        context: opts.context,
        stacksDir: opts.stacksDir,
      });
    });

  program
    .command('watch')
    .description(
      'run the drift controller: watch, classify by policy, heal / hold / heal and page, record, serve metrics',
    )
    .addOption(envOption())
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option(
      '--in-cluster',
      "use the pod's service account (for the in-cluster Deployment); implies --namespaced",
    )
    .option(
      '--namespaced',
      "watch only the services' namespaces, all the in-cluster RBAC allows (default: every namespace)",
    )
    .addOption(
      new Option('--metrics-port <port>', 'serve Prometheus metrics on this port (-1: none)')
        .default(String(METRICS_PORT))
        .argParser(port),
    )
    .addOption(
      new Option('--resync <seconds>', 're-render the desired state and re-check everything this often')
        .default('60')
        .argParser(seconds),
    )
    .option(
      '--metrics-host <host>',
      'address /metrics listens on; 0.0.0.0 serves every interface (the in-cluster Deployment, for Prometheus)',
      host,
      '127.0.0.1',
    )
    .addOption(
      new Option(
        '--approvals-port <port>',
        'serve the approvals page (held drifts, approve/reject as your Kubernetes identity) on this port (-1: none)',
      )
        .default(String(APPROVALS_PORT))
        .argParser(port),
    )
    .option(
      '--approvals-host <host>',
      'address the approvals page listens on; keep loopback and reach it with kubectl port-forward',
      host,
      '127.0.0.1',
    )
    .option('--charts-dir <dir>', 'render charts from this folder instead of Git at the configured revision')
    .option(
      '--repo-url <url>',
      'read the desired state from this Git repo (cloned into the cache), with no local stack file; needs --revision',
    )
    .option(
      '--revision <rev>',
      'branch, tag or commit of --repo-url to read; its stack file declares the rest',
    )
    .addOption(stacksDirOption())
    .action(async (opts) => {
      const { watch } = await import('./commands/watch');
      process.exitCode = await watch({
        env: opts.env,
        kubeconfig: opts.kubeconfig,
        context: opts.context,
        inCluster: opts.inCluster,
        namespaced: opts.namespaced,
        metricsPort: opts.metricsPort,
        metricsHost: opts.metricsHost,
        approvalsPort: opts.approvalsPort,
        approvalsHost: opts.approvalsHost,
        resyncSeconds: opts.resync,
        chartsDir: opts.chartsDir,
        stacksDir: opts.stacksDir,
        repoURL: opts.repoUrl,
        revision: opts.revision,
      });
    });

  for (const [name, decision, what] of [
    ['approve', 'approved', 'approve a held drift as your Kubernetes identity: the controller heals it'],
    [
      'reject',
      'rejected',
      'reject a held drift as your Kubernetes identity: the live change is accepted and recorded, never healed',
    ],
  ] as const) {
    program
      .command(`${name} <id>`)
      .description(what)
      .addOption(envOption())
      // Hidden, and refused with a line saying why: the record names your Kubernetes identity.
      .addOption(new Option('--by <name>').hideHelp())
      .option('--reason <text>', 'why, for the audit record')
      .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG or ~/.kube/config)')
      .option('--context <name>', 'kubeconfig context (default: the current one)')
      .addOption(stacksDirOption())
      .action(async (id: string, opts) => {
        const { decide } = await import('./commands/decide');
        process.exitCode = await decide({
          id,
          decision,
          env: opts.env,
          by: opts.by,
          reason: opts.reason,
          kubeconfig: opts.kubeconfig,
          context: opts.context,
          stacksDir: opts.stacksDir,
        });
      });
  }

  program
    .command('promote')
    .description(
      "copy what one environment runs (image tags, chart revision) into another's stack file, render it, and commit both on a new branch",
    )
    .addOption(new Option('--from <env>', `copy from: ${ENVIRONMENTS.join(', ')}`).makeOptionMandatory())
    .addOption(new Option('--to <env>', `copy into: ${ENVIRONMENTS.join(', ')}`).makeOptionMandatory())
    .option('--service <name>', "copy only this service's image tag (the chart revision is copied too)")
    .option('--kubeconfig <file>', "the source's kubeconfig (default: $KUBECONFIG or ~/.kube/config)")
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .addOption(stacksDirOption())
    .addHelpText(
      'after',
      '\nNever pushes and never changes your checkout: the commit goes on a new branch promote/<from>-to-<to>-<commit>-<digest>.\nExit codes: 0 promoted or nothing to promote, 2 refused (bad input, dirty work tree, source not Synced and Healthy, a value the target rejects, branch exists).',
    )
    .action(async (opts) => {
      const { promote } = await import('./commands/promote');
      process.exitCode = await promote({
        from: opts.from,
        to: opts.to,
        service: opts.service,
        kubeconfig: opts.kubeconfig,
        context: opts.context,
        stacksDir: opts.stacksDir,
      });
    });

  program
    .command('report')
    .description(
      'the four DORA figures (from Argo CD history, Git commits and DriftRecords) and the drift figures of an environment over a window',
    )
    .addOption(envOption())
    .option('--since <duration>', 'the window, back from now: e.g. 7d, 24h, 2w, 1d12h', '7d')
    .option('--output <format>', 'table or json', 'table')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .addOption(stacksDirOption())
    .addHelpText('after', '\nExit codes: 0 report printed, 2 bad input or cluster unreachable.')
    .action(async (opts) => {
      const { report } = await import('./commands/report');
      process.exitCode = await report({
        env: opts.env,
        since: opts.since,
        output: opts.output,
        kubeconfig: opts.kubeconfig,
        context: opts.context,
        stacksDir: opts.stacksDir,
      });
    });

  program
    .command('eval')
    .description(
      'the manual-vs-GitOps experiment: the same drifts under converge watch, Argo CD self-heal and an operator with helm; trials, statistics and a report',
    )
    .addOption(envOption())
    .option('--trials <n>', 'trials per scenario and arm', '20')
    .option(
      '--scenarios <list>',
      'comma-separated: scale-deployment, change-image, patch-service-type, delete-deployment, delete-secret, delete-configmap (default: all)',
    )
    .option('--arms <list>', 'comma-separated: converge, argocd, manual (default: all)')
    .option(
      '-o, --out <dir>',
      'folder for trials.json, summary.json and report.html (default: converge-eval/<env>)',
    )
    .option('--seed <n>', "seed of the manual arm's operator model", '1')
    .option(
      '--reaction <spec>',
      'the manual arm\'s operator model, e.g. every:5m+lognormal:5m,1 (README: "converge eval")',
    )
    .option('--timeout <seconds>', 'a trial not restored by then is recorded as not restored', '300')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .addOption(stacksDirOption())
    .addHelpText(
      'after',
      '\nNeeds a cluster where the environment is not deployed: it installs the services with helm, runs the trials, and removes what it created.\nExit codes: 0 done, 2 bad input.',
    )
    .action(async (opts) => {
      const { evalCommand } = await import('./commands/eval');
      // `converge watch` for the converge arm: this same program, however it was started.
      process.exitCode = await evalCommand(opts, [process.execPath, process.argv[1]]);
    });

  program.addHelpText(
    'after',
    '\nExit codes: 0 success, 1 violations (validate), stale manifests (synth --check), not yet Synced and Healthy (status) or low drift, 3 medium drift, 4 high drift, 2 bad input.\nDocs: README.md ("Config reference").',
  );
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  // In-process callers (tests) run main() many times: a code left by an earlier run is not this one's.
  process.exitCode = undefined;
  if (argv.length === 0) {
    // The usage, then the one line every failure is: a bare `converge` is a missing command.
    console.log(program.helpInformation().trimEnd());
    const commands = program.commands.map((c) => c.name()).join(', ');
    console.error(`converge: no command given; commands: ${commands}; run \`converge <command> --help\``);
    return EXIT.badInput;
  }
  try {
    // `converge x --help` would print the top-level help and exit 0: an unknown command is an error first.
    const known = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
    const named = argv[0] === 'help' ? argv[1] : argv[0];
    if (named !== undefined && !named.startsWith('-') && named !== 'help' && !known.includes(named))
      await program.parseAsync([named], { from: 'user' });
    else await program.parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    const { lines, code } = failureReport(err, program, argv);
    for (const line of lines) console.error(line);
    return code;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      // main() reports every error itself; this is for a failure while reporting one.
      console.error(`converge: internal error: ${(err as Error).stack ?? String(err)}`);
      process.exitCode = EXIT.internal;
    },
  );
}
