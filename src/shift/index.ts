/**
 * Environment and distribution shift (D2L §4.7): detection by two-sample tests, covariate-shift
 * correction by importance weights from a domain classifier, label-shift estimation (BBSE, RLLS,
 * EM with BCTS calibration) and correction, retraining with importance weights, and seeded shift
 * generators for experiments.
 */
export { type AnalyzeOptions, analyze, type ShiftAnalysis, type ShiftSide } from './analyze.js';
export { type Calibration, fitBcts } from './calibrate.js';
export {
  type CovariateShiftEstimate,
  type CovariateShiftOptions,
  effectiveSampleSize,
  estimateImportanceWeights,
  type ImportanceWeights,
  type WeightOptions,
  weightsFromLogits,
} from './covariate.js';
export {
  type ClassifierTestOptions,
  classifierTest,
  labelTest,
  type MmdOptions,
  mmdTest,
  permutationPValue,
  type ShiftTestResult,
  type TestOptions,
} from './detect.js';
export {
  type DomainClassifier,
  type DomainClassifierOptions,
  PIXEL_DOMAIN_CLASSIFIER,
  trainDomainClassifier,
} from './domain.js';
export {
  biasedSelection,
  dirichletPriors,
  gammaDraw,
  multinomialCounts,
  rowMeans,
  sampleWithPriors,
  tweakOnePriors,
} from './generate.js';
export {
  adjustProbabilities,
  bbse,
  conditionNumber,
  confusionMatrix,
  emLabelShift,
  emPriors,
  type LabelShiftData,
  type LabelShiftEstimate,
  type LabelShiftEstimator,
  labelShiftEstimators,
  meanPrediction,
  projectSimplex,
  rlls,
  simplexLeastSquares,
} from './labelShift.js';
export {
  argmaxRows,
  columnMeans,
  frequencies,
  rowsAsScores,
  type Scores,
  selectRows,
  softmaxRows,
  toLabels,
  toScores,
  totalVariation,
} from './matrix.js';
export {
  modelLogits,
  type TargetScore,
  targetComparison,
  trainingWeights,
  weightedLoader,
} from './retrain.js';
