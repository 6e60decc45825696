/// A character-level language model of `layers` over `[T]` token ids, as config text: a
/// token+position embedding of width 8, the given layers (each starting with ", "), and a dense
/// output of `vocab` logits.
public func lmConfig(T: Int, vocab: Int, layers: String) -> String {
    """
    {"input": [\(T)], "layers": [{"type": "token_position_embedding", "vocab": \(vocab), "dim": 8}\(layers),
      {"type": "dense", "units": \(vocab)}]}
    """
}
