"""The resources of imports (see ``crm.access.registry``).  Anyone may upload a file for
its dry run and run or undo their own imports; what an import may write is asked of the
resources it brings (a rep imports the customers a rep may create)."""

from crm.access.registry import Resource, register

from .api.views import ImportJobViewSet

register(
    Resource("imports", ImportJobViewSet, basename="import"),
)
