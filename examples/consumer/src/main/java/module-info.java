/** A consumer module: it sees org.panmax (the API) and nothing internal. */
module org.example.consumer {
    requires org.panmax;
}
