"""Placeholder router: filled in by the agents work (issue 3)."""

from fastapi import APIRouter

router = APIRouter()
