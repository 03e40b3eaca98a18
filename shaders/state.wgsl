// The structs every engine kernel shares. The host mirrors them in src/gpu/layout.rs (#[repr(C)],
// bytemuck); field order and sizes must match.

// Per-model bookkeeping, one entry per model of the batch. Everything the per-epoch control flow needs
// lives here, so epochs, batches and early stopping run without reading anything back.
struct ModelState {
    model_id: u32,      // keys the random streams (the split index in walk-forward runs)
    train_start: u32,   // first training sample
    train_len: u32,
    val_start: u32,
    val_len: u32,
    alive: u32,         // 1 while this model's fit is still running
    rows: u32,          // rows of the current batch or evaluation chunk (0 = idle: kernels skip the model)
    sample_base: u32,   // evaluation: first sample of the current chunk
    step_active: u32,   // 1 when the current training step updates this model
    adam_t: u32,        // Adam steps taken over the model's life
    dropout_step: u32,  // adam_t before the current step: keys this step's dropout masks
    epoch_serial: u32,  // epochs run over the model's life: keys the shuffles
    epochs_run: u32,    // epochs of the current fit
    wait: u32,          // epochs since the last improvement of the validation loss
    best_epoch: u32,
    stopped_early: u32,
    improved: u32,      // the epoch that just ended improved the validation loss
    has_best: u32,      // a best-weights copy exists for the current fit
    lr_t: f32,          // Adam step size of the current step
    best_val: f32,
    train_sse: f32,     // Σ squared error of this epoch's training batches
    eval_sse: f32,      // Σ squared error of the current evaluation pass
    seed_lo: u32,       // with model_id, keys the random streams; per model, so the models of one
    seed_hi: u32,       // batch may be differently seeded (seed ensembles)
}

// Fixed for a run.
struct RunConfig {
    models: u32,
    batch: u32,         // row capacity of every activation buffer (= batch size)
    steps: u32,         // look-back T
    features: u32,
    perm_stride: u32,   // per-model length of the shuffle buffer
    eval_stride: u32,   // per-model length of the evaluation-prediction buffer
    max_epochs: u32,
    patience: u32,
    restore_without_stop: u32, // 1: restore_best restores every model; 0 (tf.keras 2): only those that stopped early
    pad4: u32,
    beta1: f32,
    beta2: f32,
    epsilon: f32,
    param_stride: u32,  // floats per model of every parameter-shaped buffer (a multiple of 4)
    x_stride: u32,      // floats per row of the first layer's input [x | h | 1]
    x_model: u32,       // floats per model of that input
    lr_table_len: u32,  // entries of the Adam step-size table
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

// Written by the host before each submission (never read back).
struct StepParams {
    batch_index: u32,   // training: which batch of the epoch
    training: u32,      // 1 = training step (dropout on), 0 = evaluation
    eval_train_window: u32, // evaluation: 1 = the training window, 0 = the validation window
    chunk: u32,         // evaluation: which chunk of `batch` rows
    only_alive: u32,    // evaluation: skip models whose fit has ended
    carry_best: u32,    // begin_fit: keep the best validation loss of earlier fits (seed protocol)
    pad1: u32,
    pad2: u32,
}
