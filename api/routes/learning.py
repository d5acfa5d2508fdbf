"""Placeholder router: model registry and FAQ-gap endpoints (the learning-loop issue)."""

from fastapi import APIRouter

router = APIRouter()
