/**
 * Default memory of Sluice's Lambda functions, in MB. A module of plain constants (no CDK
 * import), so the cost model (bench/cost-model.ts) prices GB-seconds at the memory the stack
 * really deploys without loading aws-cdk-lib.
 *
 * Lambda allocates CPU in proportion to memory (one full vCPU at 1769 MB), and bills
 * memory x wall-clock time, waiting included.
 */

/**
 * The API function (produce, metadata, groups, tokens) and maintenance: produce compresses
 * (zstd) and encodes batches and maintenance merges and compacts, both CPU-bound, so they
 * get the CPU share of 1024 MB (about 0.58 vCPU).
 */
export const API_MEMORY_MB = 1024;

/**
 * The fetch function (fetch, multi-fetch, offset lookups). A tail consumer always has a long
 * poll in flight (up to LIMITS.maxWaitMs, 20 s), and Lambda bills that wait at the function's
 * memory, so memory is most of what a reader costs. Half of the API's: a long poll is an I/O
 * wait that needs no CPU; what a fetch does compute (decompressing and decoding up to a
 * 1 MiB answer, JSON/base64 encoding it) still gets about 0.29 vCPU, enough not to stretch a
 * hot fetch; and 512 MB holds the segment cache and a full answer with room to spare. Going
 * lower (256 MB, ~0.14 vCPU) would halve the wait's price again but slow every answer that
 * carries data; raise it with `fetchMemorySize` if FetchLatency p99 of full answers grows.
 */
export const FETCH_MEMORY_MB = 512;
