"""Pure model of a twin: project, components, sensors, samples, colour rules. No Qt, no VTK."""
