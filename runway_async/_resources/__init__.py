"""The resource namespaces of the client (``client.tasks``, ``client.image_to_video``, ...)."""
