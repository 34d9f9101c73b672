// prompt-guard's injection classifier: logistic regression over hashed n-grams, weights shipped in model/injection-classifier.json (trained by eval/train-injection-classifier.ts).
import fs from 'node:fs';
import path from 'node:path';
// Type-only: nothing is read at import time, but the import puts the JSON in the program, so tsc (resolveJsonModule)
// copies it to dist/plugins/prompt-guard/model/ beside the compiled classifier, which is what the Docker image ships.
import type shippedModelFile from './model/injection-classifier.json';
import { featureDotProduct, windowStarts, type FeatureOptions } from './injection-features';

type ModelFile = typeof shippedModelFile;

const MODEL_FILE = path.join(__dirname, 'model', 'injection-classifier.json');

export interface InjectionModelMetadata {
  version: string;
  /** Default decision threshold (flag when score >= threshold), chosen on the training data by cross-validation. */
  threshold: number;
  thresholdRule: string;
  trainingData: string;
  heldOut: string;
  features: FeatureOptions;
  regularisation: number;
  crossValidation: { folds: number; repeats: number; auc: number; recallAtTwoPercentFalsePositives: number };
  /**
   * Texts longer than this are scored in windows of this many characters, every `windowStride`, and the highest score
   * wins, so an injection buried in a long tool result is less diluted by the prose around it. Chosen by the training
   * script (out-of-fold buried injections vs benign 8 KB hosts).
   */
  windowCharacters: number;
  windowStride: number;
}

interface LoadedModel {
  metadata: InjectionModelMetadata;
  bias: number;
  /** The shipped int16 weights, dense; a weight is quantised × weightScale. Half the bytes of floats, so more of it stays in the CPU cache. */
  quantisedWeights: Int16Array;
  weightScale: number;
}

let loaded: LoadedModel | null = null;

/** The dense quantised weights from the file's sparse little-endian int16 weights and int32 buckets. */
function decodeWeights(file: ModelFile): Int16Array {
  const weights = new Int16Array(1 << file.features.bucketBits);
  const buckets = Buffer.from(file.buckets, 'base64');
  const values = Buffer.from(file.weights, 'base64');
  for (let index = 0; index * 4 < buckets.length; index += 1) weights[buckets.readInt32LE(index * 4)] = values.readInt16LE(index * 2);
  return weights;
}

/** Read once, on the first score or metadata access, so a gateway that never enables the classifier never parses it. */
function model(): LoadedModel {
  if (loaded !== null) return loaded;
  const file = JSON.parse(fs.readFileSync(MODEL_FILE, 'utf8')) as ModelFile;
  loaded = {
    metadata: {
      version: file.version,
      threshold: file.threshold,
      thresholdRule: file.thresholdRule,
      trainingData: file.trainingData,
      heldOut: file.heldOut,
      features: file.features,
      regularisation: file.regularisation,
      crossValidation: {
        folds: file.crossValidation.folds,
        repeats: file.crossValidation.repeats,
        auc: file.crossValidation.chosen.auc,
        recallAtTwoPercentFalsePositives: file.crossValidation.chosen.recallAtTarget,
      },
      windowCharacters: file.window.characters,
      windowStride: file.window.stride,
    },
    bias: file.bias,
    quantisedWeights: decodeWeights(file),
    weightScale: file.weightScale,
  };
  return loaded;
}

/** The model's description; its fields load the weights file on first access. */
export const INJECTION_MODEL: Readonly<InjectionModelMetadata> = Object.freeze({
  get version() { return model().metadata.version; },
  get threshold() { return model().metadata.threshold; },
  get thresholdRule() { return model().metadata.thresholdRule; },
  get trainingData() { return model().metadata.trainingData; },
  get heldOut() { return model().metadata.heldOut; },
  get features() { return model().metadata.features; },
  get regularisation() { return model().metadata.regularisation; },
  get crossValidation() { return model().metadata.crossValidation; },
  get windowCharacters() { return model().metadata.windowCharacters; },
  get windowStride() { return model().metadata.windowStride; },
});

function sigmoid(margin: number): number {
  return margin >= 0 ? 1 / (1 + Math.exp(-margin)) : Math.exp(margin) / (1 + Math.exp(margin));
}

function scoreWindow(loadedModel: LoadedModel, text: string): number {
  const { bias, metadata, quantisedWeights, weightScale } = loadedModel;
  return sigmoid(bias + weightScale * featureDotProduct(text, metadata.features, quantisedWeights));
}

/** Probability in [0, 1] that the text is a prompt injection: the highest over its windows. Blank text scores 0. */
export function injectionScore(text: string): number {
  if (!/\S/.test(text)) return 0;
  const loadedModel = model();
  const { windowCharacters, windowStride } = loadedModel.metadata;
  let highest = 0;
  for (const start of windowStarts(text.length, windowCharacters, windowStride)) highest = Math.max(highest, scoreWindow(loadedModel, text.slice(start, start + windowCharacters)));
  return highest;
}
