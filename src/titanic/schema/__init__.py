"""What the data hold: the Kaggle columns and the feature groups made of them.

:mod:`.columns` holds the columns and pandera schemas, :mod:`.feature_groups` the registry of
feature groups. Nothing is imported here, so that the settings read the feature groups without
loading pandas and pandera.
"""
