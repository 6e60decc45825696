/// Optimizers on flat buffers: SGD, Adam, AdamW, schedules, regularization. (In progress.)
public enum SwOptim {}
