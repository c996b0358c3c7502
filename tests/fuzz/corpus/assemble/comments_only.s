; only a comment

   # another
// and another
