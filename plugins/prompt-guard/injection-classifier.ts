// prompt-guard's injection classifier: logistic regression over hashed n-grams, weights shipped in model/injection-classifier.json (trained by eval/train-injection-classifier.ts).
import fs from 'node:fs';
import path from 'node:path';
// Type-only: nothing is read at import time, but the import puts the JSON in the program, so tsc (resolveJsonModule)
// copies it to dist/plugins/prompt-guard/model/ beside the compiled classifier, which is what the Docker image ships.
import type shippedModelFile from './model/injection-classifier.json';
import { extractFeatures, type FeatureOptions } from './injection-features';

type ModelFile = typeof shippedModelFile;

const MODEL_FILE = path.join(__dirname, 'model', 'injection-classifier.json');

/**
 * Long texts are scored in windows and the highest score wins, so an injection buried in a long tool result is not
 * diluted by the L2 normalisation of everything around it. Windows overlap by half: any passage up to 1,000 characters
 * lies whole inside one of them.
 */
export const WINDOW_CHARACTERS = 2000;
export const WINDOW_STRIDE = 1000;

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
  windowCharacters: number;
  windowStride: number;
}

interface LoadedModel {
  metadata: InjectionModelMetadata;
  bias: number;
  weights: Float32Array;
}

let loaded: LoadedModel | null = null;

/** The dense weight vector from the file's sparse little-endian int16 weights and int32 buckets. */
function decodeWeights(file: ModelFile): Float32Array {
  const weights = new Float32Array(1 << file.features.bucketBits);
  const buckets = Buffer.from(file.buckets, 'base64');
  const values = Buffer.from(file.weights, 'base64');
  for (let index = 0; index * 4 < buckets.length; index += 1) weights[buckets.readInt32LE(index * 4)] = values.readInt16LE(index * 2) * file.weightScale;
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
      windowCharacters: WINDOW_CHARACTERS,
      windowStride: WINDOW_STRIDE,
    },
    bias: file.bias,
    weights: decodeWeights(file),
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
  windowCharacters: WINDOW_CHARACTERS,
  windowStride: WINDOW_STRIDE,
});

/** Start offsets of the windows: every stride, plus one flush with the end so the tail gets a full-size window. */
export function windowStarts(length: number): number[] {
  if (length <= WINDOW_CHARACTERS) return [0];
  const starts: number[] = [];
  for (let start = 0; start + WINDOW_CHARACTERS < length; start += WINDOW_STRIDE) starts.push(start);
  starts.push(length - WINDOW_CHARACTERS);
  return starts;
}

function sigmoid(margin: number): number {
  return margin >= 0 ? 1 / (1 + Math.exp(-margin)) : Math.exp(margin) / (1 + Math.exp(margin));
}

function scoreWindow(loadedModel: LoadedModel, text: string): number {
  const { indices, values } = extractFeatures(text, loadedModel.metadata.features);
  let margin = loadedModel.bias;
  for (let entry = 0; entry < indices.length; entry += 1) margin += loadedModel.weights[indices[entry]!]! * values[entry]!;
  return sigmoid(margin);
}

/** Probability in [0, 1] that the text is a prompt injection: the highest over its windows. Blank text scores 0. */
export function injectionScore(text: string): number {
  if (text.trim() === '') return 0;
  const loadedModel = model();
  let highest = 0;
  for (const start of windowStarts(text.length)) highest = Math.max(highest, scoreWindow(loadedModel, text.slice(start, start + WINDOW_CHARACTERS)));
  return highest;
}
