"""Test-data builders for tests/ and bench/: synthetic clips with exact ground truth (``clips``), a
synthetic walk with true foot contacts (``walk``), an SMPL-X-format model file (``smplx_model``),
retarget target characters built in Blender (``rigs``, names in ``rig_names``).

They import ``core`` and nothing imports them from ``core``; they live under tests/, which the
extension zip leaves out (``paths_exclude_pattern`` in blender_manifest.toml).
"""
