"""What the app serves: the tab registry (`registry`), the model catalog read from `models.yaml`
(`catalog`) and the Hugging Face Space settings (`space`). Imports only `playground.core`."""
