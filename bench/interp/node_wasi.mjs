// node_wasi.mjs - run a WASI command under node (V8), for the baseline
// figures of `make bench-interp` (`bench: node_NAME`, `node_geomean`).
//
//   node node_wasi.mjs FILE.wasm [ARGS...]
//
// The guest sees FILE.wasm as argv[0], then ARGS, and an empty environment,
// as under `lvm run`.  The exit status is the guest's proc_exit code.
// Compiling is included in the time the driver measures, as it is for lvm.
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const [file, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(readFileSync(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
