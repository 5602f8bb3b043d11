import { compile, data, manualSeed, nn, noGrad, optim } from 'keel';

manualSeed(0);
const { X, y } = data.moons(1024, 0.1, 0);
const model = new nn.Sequential(
  new nn.Linear(2, 64),
  new nn.ReLU(),
  new nn.Dropout(0.1),
  new nn.Linear(64, 2),
);
const opt = new optim.AdamW(model.parameters(), { lr: 0.01, weightDecay: 1e-4 });

// A training step: traced on its first call, replayed after (no ops, graph objects or allocation).
const step = compile((x, t) => {
  opt.zeroGrad();
  const loss = nn.F.crossEntropy(model.forward(x), t);
  loss.backward();
  opt.step();
  return loss;
});
// reuseBatches: each batch's memory is recycled for the next (the step copies its inputs in).
const loader = new data.DataLoader(new data.TensorDataset(X, y), {
  batchSize: 100,
  shuffle: true,
  reuseBatches: true,
});
let last;
for (let epoch = 0; epoch < 30; epoch++) for (const [x, t] of loader) last = step(x, t);
console.log(`last loss ${last.item().toFixed(3)}; plans: ${step.plans} (batches of 100 and the last of 24)`);
console.log(`one step runs ${step.lastPlanOps.length} kernels: ${step.lastPlanOps.join(', ')}`);

// Prediction compiled too: eval mode, no gradients.
model.eval();
const predict = compile((x) => noGrad(() => model.forward(x).argmax(1)));
console.log(`train accuracy ${predict(X).eq(y).float().mean().item().toFixed(3)}`);
