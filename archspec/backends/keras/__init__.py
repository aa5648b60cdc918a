"""The Keras backend: emission, saving and export, verification.

Keras is imported here only, and lazily."""
