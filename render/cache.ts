// The cache root, run dir and results dir have one definition, shared with the scripts in tools/.
export { cacheRoot, resultsDir, runDir } from '../tools/cache-paths';
