// Command hopsql is the hopsql binary. `hopsql serve` runs a complete node
// on a data directory: the PostgreSQL-wire server over the embedded engine.
// Later issues add the fs and admin sub-commands.
package main
