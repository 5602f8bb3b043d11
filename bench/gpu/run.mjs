// The GPU benchmark: keel's webgpu backend (Dawn through npm webgpu, Vulkan on Linux) against PyTorch
// CUDA eager in the same run, on the issue's three workloads — GEMM 4096³ float32 (A·B and A·Bᵀ;
// PyTorch with TF32 off), the dropout MLP (784-256-256-10, SGD lr 0.5, batch 256) and best-mlp's
// network (784-1024-512-10, AdamW lr 2e-3, batch 128), s/epoch as the median of epochs 2..N of a
// compiled fit that reads its loss every 100 steps (PyTorch's loop reads none). Sized to end well
// inside 5 minutes on an H100/H200: a deadline (--budget seconds, default 270) skips what is left.
//
// Written to run once, unattended, on a lent GPU machine with Node and this repository: it builds
// keel (dist/) when that is missing and node_modules has TypeScript, finds the NVIDIA Vulkan driver
// when no ICD is named (VK_DRIVER_FILES), uses Fashion-MNIST when found and otherwise seeded uniform
// data of its shapes (timings do not depend on the values), and needs no network. Every step that
// fails is recorded and the rest runs. Prints a table, then the JSON (also written to
// bench/results/gpu-latest.json and, where set, $OUT/gpu-bench.json).
// What must be on that machine: Node ≥ 20; dist/ (or node_modules with typescript and assemblyscript
// to build it); npm webgpu@0.6.2 (only node_modules/webgpu/{index.js,package.json} and
// dist/linux-x64/ are needed: ~22 MB); the Vulkan loader (libvulkan1) and the NVIDIA driver's ICD;
// python3 with torch for the peer ($KEEL_PYTHON names another interpreter).
// Usage: node bench/gpu/run.mjs [--budget 270] [--epochs 3] [--quick]
//   (smoke test on a software adapter: --gemm 256 --limit 4096 shrinks the GEMM and the data)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const argv = process.argv.slice(2);
const flag = (name, dflt) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const quick = argv.includes('--quick');
const epochs = flag('--epochs', quick ? 2 : 3);
const budget = flag('--budget', 270);
const gemmN = flag('--gemm', 4096);
const limit = flag('--limit', 0);
const t0 = Date.now();
const left = () => budget - (Date.now() - t0) / 1000;
const log = (...a) => console.error(...a);
const result = { started: new Date().toISOString(), epochs, notes: [], keel: {}, torch: null };
const note = (s) => {
  result.notes.push(s);
  log(`note: ${s}`);
};

// ---------------------------------------------------------------- keel, built
function ensureBuilt() {
  const dist = join(root, 'dist', 'index.js');
  const src = join(root, 'src', 'index.ts');
  if (existsSync(dist) && (!existsSync(src) || statSync(dist).mtimeMs >= statSync(src).mtimeMs)) return;
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    if (existsSync(dist))
      return note('dist/ may be older than src/ and cannot be rebuilt here (no node_modules/typescript)');
    throw new Error(
      'keel is not built (dist/) and cannot be built here: npm ci && npm run build on a machine with network, then bring dist/',
    );
  }
  log('building keel (tsc -p tsconfig.build.json)…');
  if (!existsSync(join(root, 'src', 'backend', 'wasm', 'binary.generated.ts')))
    execFileSync(process.execPath, [join(root, 'scripts', 'build-wasm.mjs')], {
      cwd: root,
      stdio: 'inherit',
    });
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}

// ---------------------------------------------------------------- Vulkan
function findVulkan() {
  const loader = spawnSync('sh', ['-c', 'ldconfig -p | grep libvulkan.so.1'], { encoding: 'utf8' });
  result.vulkanLoader = loader.stdout.trim().split('\n')[0] || null;
  if (!result.vulkanLoader) note('no libvulkan.so.1 in ldconfig: Dawn finds no Vulkan (install libvulkan1)');
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return;
  for (const icd of [
    '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json',
    '/usr/share/vulkan/icd.d/nvidia_icd.json',
    '/etc/vulkan/icd.d/nvidia_icd.json',
  ])
    if (existsSync(icd)) {
      process.env.VK_DRIVER_FILES = icd;
      note(`Vulkan driver: ${icd} (VK_DRIVER_FILES)`);
      return;
    }
}

// ---------------------------------------------------------------- timing helpers
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : Number.NaN;
};

async function keelSide(k, node, gpu) {
  const { data, optim, train } = k;
  const ctx = gpu.ctx;
  const out = result.keel;
  // GEMM 4096³: eager dispatches of the backend's product, timed to the GPU's idle.
  if (left() > 60) {
    try {
      const n = gemmN;
      const g = new k.Rng(0);
      const a = k.randn([n, n], { generator: g });
      const b = k.randn([n, n], { generator: g });
      const view = (t, transposed) =>
        transposed
          ? { storage: t.storage, shape: [n, n], strides: [1, n], offset: 0 }
          : { storage: t.storage, shape: [n, n], strides: [n, 1], offset: 0 };
      const rate = async (transposed) => {
        const run = () => gpu.matmul(view(a, false), view(b, transposed), [n, n], 'float32');
        for (let i = 0; i < 2; i++) run();
        await ctx.idle();
        const reps = quick ? 3 : 10;
        let best = Number.POSITIVE_INFINITY;
        for (let r = 0; r < 3; r++) {
          const s = performance.now();
          for (let i = 0; i < reps; i++) run();
          await ctx.idle();
          best = Math.min(best, (performance.now() - s) / 1000 / reps);
        }
        return (2 * n ** 3) / best / 1e12;
      };
      out.gemm = { n, AB: await rate(false), ABt: await rate(true) };
      log(
        `keel webgpu GEMM ${n}³: A·B ${out.gemm.AB.toFixed(2)} TFLOP/s, A·Bᵀ ${out.gemm.ABt.toFixed(2)} TFLOP/s`,
      );
    } catch (e) {
      out.gemmError = String(e?.message ?? e);
      log(`keel GEMM failed: ${out.gemmError}`);
    }
  }
  // The data: Fashion-MNIST where found, else uniform data of its shapes (made on the GPU).
  const dir = node.findFashionMnist();
  let fashion;
  if (dir) {
    const cap = limit || undefined;
    fashion = {
      train: node.readFashionMnist(dir, 'train', cap),
      test: node.readFashionMnist(dir, 'test', cap),
    };
    result.data = 'Fashion-MNIST';
  } else {
    const g = new k.Rng(0);
    const set = (n) => ({
      images: k.rand([n, 784], { generator: g }),
      labels: k.randint(0, 10, [n], { generator: g }),
    });
    fashion = { train: set(limit || 60000), test: set(Math.min(limit || 10000, 10000)) };
    result.data = 'synthetic (uniform, Fashion-MNIST shapes)';
  }
  const mlp = async (best, readEvery) => {
    const g = new k.Rng(0);
    const model = best
      ? node.fashionMlp([1024, 512], [0.3, 0.3], g, 'default')
      : node.fashionMlp([256, 256], [0.2, 0.5], g, 'default');
    const loader = new data.DataLoader(new data.TensorDataset(fashion.train.images, fashion.train.labels), {
      batchSize: best ? 128 : 256,
      shuffle: true,
      generator: g,
    });
    const s0 = { ...ctx.stats };
    const h = await train.fit({
      model,
      optimizer: best
        ? new optim.AdamW(model.parameters(), { lr: 2e-3 })
        : new optim.SGD(model.parameters(), { lr: 0.5 }),
      train: loader,
      test: new data.DataLoader(new data.TensorDataset(fashion.test.images, fashion.test.labels), {
        batchSize: 1000,
      }),
      epochs,
      readEvery,
      callbacks: [
        {
          onEpochEnd: (r) =>
            log(
              `  keel webgpu ${best ? 'best-mlp' : 'dropout MLP'} (readEvery ${readEvery}) epoch ${r.epoch}: ${r.seconds.toFixed(3)} s, test acc ${r.testAccuracy?.toFixed(4)}`,
            ),
        },
      ],
    });
    const steps = epochs * loader.length;
    const secs = h.epochs.map((e) => e.seconds);
    return {
      epochSeconds: secs,
      seconds: median(secs.slice(1).length ? secs.slice(1) : secs),
      testAccuracy: h.epochs.at(-1)?.testAccuracy,
      eagerReasons: h.eagerReasons ?? [],
      planRefused: gpu.lastRefusal,
      perStep: {
        dispatches: (ctx.stats.dispatches - s0.dispatches) / steps,
        submits: (ctx.stats.submits - s0.submits) / steps,
        reads: (ctx.stats.reads - s0.reads) / steps,
      },
    };
  };
  for (const [key, best, readEvery, need] of [
    ['mlp', false, 100, 40],
    ['bestMlp', true, 100, 40],
    ['mlpReadEvery1', false, 1, 30],
  ]) {
    if (left() < need) {
      note(`skipped keel ${key}: the budget is spent`);
      continue;
    }
    try {
      out[key] = await mlp(best, readEvery);
    } catch (e) {
      out[`${key}Error`] = String(e?.message ?? e);
      log(`keel ${key} failed: ${out[`${key}Error`]}`);
    }
  }
}

/** The Python that has torch ($KEEL_PYTHON, else python3 on the PATH). */
const PYTHON = process.env.KEEL_PYTHON ?? 'python3';

function torchSide(fashionDir) {
  const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.cuda.is_available())'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0)
    return note(`PyTorch does not import: ${(probe.stderr || '').trim().split('\n').at(-1)}`);
  if (probe.stdout.trim() !== 'True')
    return note('PyTorch imports but torch.cuda.is_available() is False: no CUDA peer');
  const spec = {
    fashion: fashionDir,
    gemm: gemmN,
    gemmReps: quick ? 3 : 10,
    mlpEpochs: epochs,
    bestEpochs: epochs,
  };
  const r = spawnSync(PYTHON, [join(here, 'torch_gpu.py'), JSON.stringify(spec)], {
    encoding: 'utf8',
    timeout: Math.max(30, left() - 5) * 1000,
    maxBuffer: 1 << 24,
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  if (r.status !== 0)
    return note(
      `the PyTorch peer failed (${r.signal ?? r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' / ')}`,
    );
  result.torch = JSON.parse(r.stdout.trim().split('\n').at(-1));
}

function table() {
  const kk = result.keel;
  const t = result.torch ?? {};
  const rows = [];
  const fmt = (x, d = 3) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—');
  const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' ? (a / b).toFixed(2) : '—');
  rows.push([
    `GEMM ${gemmN}³ A·B, TFLOP/s`,
    fmt(kk.gemm?.AB, 2),
    fmt(t.gemm?.AB, 2),
    ratio(kk.gemm?.AB, t.gemm?.AB),
    '≥ 0.5',
  ]);
  rows.push([
    `GEMM ${gemmN}³ A·Bᵀ, TFLOP/s`,
    fmt(kk.gemm?.ABt, 2),
    fmt(t.gemm?.ABt, 2),
    ratio(kk.gemm?.ABt, t.gemm?.ABt),
    '',
  ]);
  rows.push([
    'dropout MLP, s/epoch',
    fmt(kk.mlp?.seconds),
    fmt(t.mlp?.seconds),
    ratio(kk.mlp?.seconds, t.mlp?.seconds),
    '≤ 0.5',
  ]);
  rows.push([
    '  (keel reading the loss every step)',
    fmt(kk.mlpReadEvery1?.seconds),
    '',
    ratio(kk.mlpReadEvery1?.seconds, t.mlp?.seconds),
    '',
  ]);
  rows.push([
    'best-mlp network, s/epoch',
    fmt(kk.bestMlp?.seconds),
    fmt(t.bestMlp?.seconds),
    ratio(kk.bestMlp?.seconds, t.bestMlp?.seconds),
    '≤ 1',
  ]);
  const head = ['workload', 'keel webgpu', 'PyTorch CUDA', 'keel / torch', 'target'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => String(c).padEnd(w[i])).join('  ');
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

try {
  ensureBuilt();
  findVulkan();
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const k = await import('../../dist/index.js');
  const node = {
    ...(await import('../../dist/io/node/index.js')),
    ...(await import('../../dist/experiments/index.js')),
  };
  const { enableWebGpu } = await import('../../dist/io/node/webgpu.js');
  const nodeProc = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'], {
    encoding: 'utf8',
  });
  result.gpu = nodeProc.status === 0 ? nodeProc.stdout.trim() : null;
  let gpu = null;
  try {
    gpu = await enableWebGpu();
    k.setBackend('webgpu');
    result.adapter = gpu.adapter;
    log(`webgpu adapter: ${gpu.adapter.vendor} ${gpu.adapter.architecture} ${gpu.adapter.description}`);
    if (gpu.adapter.isFallbackAdapter)
      note('the adapter is a software fallback (no GPU through Vulkan): keel figures are not GPU figures');
  } catch (e) {
    note(`no webgpu backend: ${e.message}`);
  }
  if (gpu) await keelSide(k, node, gpu);
  if (left() > 30) torchSide(node.findFashionMnist());
  else note('skipped the PyTorch peer: the budget is spent');
} catch (e) {
  note(`the benchmark stopped: ${e?.stack ?? e}`);
}
result.seconds = (Date.now() - t0) / 1000;
const json = JSON.stringify(result, null, 2);
console.log(table());
console.log(json);
try {
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'gpu-latest.json'), json);
  if (process.env.OUT) writeFileSync(join(process.env.OUT, 'gpu-bench.json'), json);
} catch (e) {
  log(`could not write the results: ${e.message}`);
}
process.exit(0);
