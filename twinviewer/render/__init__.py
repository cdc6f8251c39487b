"""pyvista/VTK adapters: the scene, colouring, camera. Takes any plotter. No Qt."""
