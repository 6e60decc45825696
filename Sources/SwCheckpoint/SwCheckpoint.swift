/// Checkpoints: safetensors, trainer state. (In progress.)
public enum SwCheckpoint {}
