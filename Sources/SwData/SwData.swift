/// Datasets and samplers. (In progress.)
public enum SwData {}
