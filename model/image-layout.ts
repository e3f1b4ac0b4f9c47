/*
 * The drift controller image's layout: the one definition that image/Dockerfile (filled in by
 * tools/image-context.mjs, through dist/), the Deployment (constructs/drift/drift-controller.ts)
 * and the pod end-to-end test all read, so the image and the Deployment cannot disagree.
 */

/** A writable path of the pod: an emptyDir volume mounted there. The root filesystem is read-only. */
export interface ImageVolume {
  readonly name: string;
  readonly path: string;
}

export const IMAGE_LAYOUT = {
  /** The user and group the controller runs as; nothing in the image needs root. */
  user: 10001,
  group: 10001,
  /** `npm install --global --prefix` of the packed package: code in lib/node_modules/converge, the bin in bin/. */
  prefix: '/opt/converge',
  /** The program the container runs: npm's link to the package's `converge` bin. */
  command: '/opt/converge/bin/converge',
  /** Where the image puts helm, beside the bin; git comes from Debian's package, in /usr/bin. */
  binDir: '/opt/converge/bin',
  /** PATH: the baked tools first, then Node's folder in the base image, then Debian's. */
  path: '/opt/converge/bin:/usr/local/bin:/usr/bin:/bin',
  /** Working directory; read-only, nothing is written relative to it. */
  workdir: '/opt/converge',
  /** Every path the process writes: the Git clone, rendered charts, helm's and Node's caches. */
  volumes: [{ name: 'tmp', path: '/tmp' }] as readonly ImageVolume[],
  /** HOME and the cache live on the volume, so helm and Converge write nowhere else. */
  env: { HOME: '/tmp', CONVERGE_CACHE: '/tmp/converge' } as Readonly<Record<string, string>>,
} as const;
