/**
 * Everything a training run computes from its data, as one pure function (no I/O): what the training thread runs and
 * what tests and the evaluation may call directly. Optionally the offline evaluation on a temporal split of the same
 * data (figures for GetModelStatus).
 */
import { DEFAULT_TRAIN, trainRecommender, type Recommender, type TrainingData, type TrainOptions } from "../algorithms/recommender.ts";
import { evaluateTrainingData } from "../../../eval/training-evaluation.ts";
import { tuneOnTrainingData, type TuneBudget, type Tuned } from "../../../eval/tune.ts";

export interface FitInput {
  data: TrainingData;
  train: Partial<TrainOptions>;
  /** Also run the offline evaluation (figures for GetModelStatus). */
  evaluate: boolean;
  /** Tune the hybrid's parameters and λ on a temporal validation split first (tune.ts); absent or 0 s: `train` as given. */
  tune?: TuneBudget;
}

export interface FitOutput {
  model: Recommender;
  /** Offline evaluation figures (empty unless asked for). */
  evaluation: Record<string, number>;
  evaluatedAt?: string;
  /** What the tuning chose (the model's params and λ) and its validation figures. */
  tuning?: Tuned;
  fitSeconds: number;
}

/** A step of the run, for the job's progress. */
export type FitProgress = { phase: "tuning" | "fitting" | "evaluating" | "done" };

/** Fits the model (and evaluates it when asked), reporting each phase. */
export function fitModel(input: FitInput, progress: (p: FitProgress) => void = () => {}): FitOutput {
  const started = performance.now();
  let opts: TrainOptions = { ...DEFAULT_TRAIN, ...input.train };
  let tuning: Tuned | undefined;
  if (input.tune && input.tune.seconds > 0) {
    progress({ phase: "tuning" });
    tuning = tuneOnTrainingData(input.data, opts, input.tune);
    opts = { ...opts, lambda: tuning.lambda, hybrid: tuning.params };
  }
  progress({ phase: "fitting" });
  const model = trainRecommender(input.data, opts);
  const fitSeconds = (performance.now() - started) / 1000;
  if (!input.evaluate) {
    progress({ phase: "done" });
    return { model, evaluation: {}, ...(tuning ? { tuning } : {}), fitSeconds };
  }
  progress({ phase: "evaluating" });
  const evaluation = evaluateTrainingData(input.data, opts);
  progress({ phase: "done" });
  return { model, evaluation: evaluation.figures, evaluatedAt: evaluation.evaluatedAt, ...(tuning ? { tuning } : {}), fitSeconds };
}
