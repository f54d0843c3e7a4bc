"""Search semantics every mail store shares: the query AST and the signed, paged cursor."""
