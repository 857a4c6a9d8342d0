"""The nlp service's domain: plain typed Python, no gRPC, Redis or model-library types."""
