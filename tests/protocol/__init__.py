# A package, so that the tests can import helpers from .conftest by a name
# that cannot collide with another directory's conftest.
