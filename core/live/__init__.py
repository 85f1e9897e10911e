"""Live capture: a camera or stream drives a body in real time (``python -m core live SOURCE``).

``source`` (decode thread, newest frame only), ``pose`` (MediaPipe per frame), ``follow`` (its body
checked against the person followed),
``solver`` (closed-form fit, One Euro filter, causal floor and contacts),
``session`` (the loop and its figures), ``vmc`` (VMC/OSC out) and ``cli``.
``protocol`` (the stream's message) and ``osc`` (OSC encoding) are numpy /
standard library only and sit low in the layers: the Blender side reads the
stream with ``protocol``. This file imports nothing, so importing
``core.live.protocol`` stays light.
"""
