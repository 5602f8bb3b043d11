import { gradcheck, manualSeed, matmul, noGrad, randn, relu, savedBytes, sum, tensor, toMermaid } from 'keel';

manualSeed(42);

// A tiny network: y = relu(x·W) summed; gradients by reverse-mode autograd.
const x = tensor([
  [1, 2, 3],
  [4, 5, 6],
]);
const W = randn([3, 2], { requiresGrad: true });
const loss = sum(relu(matmul(x, W)));
loss.backward();
console.log('loss', loss.item().toFixed(4), '| dL/dW', W.grad.toString().replace(/\s+/g, ' '));

// Gradients checked against central differences in float64.
const a = tensor([0.5, -1, 2], { dtype: 'float64', requiresGrad: true });
console.log('gradcheck passed:', gradcheck((t) => t.mul(t).exp().sum(), [a]).passed);

// Training keeps tensors for backward; prediction does not.
const train = savedBytes(sum(relu(matmul(x, W))));
const predict = savedBytes(noGrad(() => sum(relu(matmul(x, W)))));
console.log(`kept for backward: training ${train} B, prediction ${predict} B`);

// The computational graph as a Mermaid flowchart (toDot gives Graphviz).
console.log(toMermaid(loss).split('\n')[0]);
